"""The NumPy execution engine: compiler, steps, losses, optimizers, trainer,
the training process, and the fit between a network and its data. No Qt.

``__all__`` is the engine's public surface: what the ui (and scripts) import,
always from ``anndesigner.engine`` itself (tests/test_layering.py holds the ui
to it). The modules behind it may change shape freely."""

from .activations import curve as activation_curve
from .build import DocumentError, graph_from_dict, network_from_dict, network_to_dict
from .compiler import Program, compile_graph
from .tracing import LOSS_FORMULAS, Trace, explain, loss_numbers
from .tracing_conv import ConvCell, DenseUnit, PoolCell, conv_cell, dense_unit, pool_cell
from .tracing_seq import (GATE_LABELS, RECURRENT_TYPES, AttentionSteps, RecurrentSteps, attention_steps,
                          recurrent_steps)
from .tracing_steps import StepRecord, WeightChange, train_batch_step, train_epoch_step
from .datafit import DataShape, FitReport, affects_fit, check_fit, standardize_default, with_data_fix
from .health import Finding, health
from .monitor import TrainingSnapshot
from .network import Network
from .optimizers import OPTIMIZERS
from .process import ENDLESS_EPOCHS, TrainingProcess
from .rewrite import Rewrite, apply_rewrite, plan_collapse_neurons, plan_expand_dense
from .schedules import SCHEDULES
from .trainer import (BatchEnd, EpochEnd, Finished, History, Trainer, TrainingConfig, regression_metrics,
                      split_rows)

__all__ = [
    "activation_curve", "ENDLESS_EPOCHS", "BatchEnd", "DataShape", "DocumentError", "EpochEnd", "explain", "LOSS_FORMULAS", "loss_numbers", "Trace", "Finished", "FitReport", "History", "Network",
    "OPTIMIZERS", "Program", "Rewrite", "SCHEDULES", "Trainer", "TrainingConfig", "TrainingProcess",
    "TrainingSnapshot", "affects_fit", "apply_rewrite", "check_fit", "compile_graph", "graph_from_dict", "network_from_dict",
    "network_to_dict", "plan_collapse_neurons", "plan_expand_dense", "regression_metrics", "split_rows",
    "standardize_default", "with_data_fix",
    "StepRecord", "WeightChange", "train_batch_step", "train_epoch_step",
    "ConvCell", "DenseUnit", "PoolCell", "conv_cell", "dense_unit", "pool_cell",
    "Finding", "health",
    "AttentionSteps", "GATE_LABELS", "RECURRENT_TYPES", "RecurrentSteps", "attention_steps", "recurrent_steps",
]
