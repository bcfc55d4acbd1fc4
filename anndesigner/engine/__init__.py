"""The NumPy execution engine: compiler, ops, losses, optimizers, trainer. No Qt."""

from .compiler import Program, compile_graph
from .network import Network
from .trainer import BatchEnd, EpochEnd, Finished, History, Trainer, TrainingConfig

__all__ = ["BatchEnd", "EpochEnd", "Finished", "History", "Network", "Program", "Trainer", "TrainingConfig",
           "compile_graph"]
