"""The chain rule, node by node: a graph of primitive nodes drawn as the book does
(``graph.py``), a layer of the live network opened into its primitive nodes
(``layer_panel.py``), and the book's shopping graphs with editable numbers (``sandbox.py``)."""
