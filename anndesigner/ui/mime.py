"""Drag-and-drop and clipboard formats."""

#: a palette entry being dragged; the payload is the node type id (UTF-8)
MIME_NODE_TYPE = "application/x-anndesigner-node-type"
#: copied nodes, edges and weights as JSON (see commands.copy_fragment)
MIME_FRAGMENT = "application/x-anndesigner-fragment+json"
