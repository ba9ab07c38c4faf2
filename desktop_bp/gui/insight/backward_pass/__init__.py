"""The Backward pass tab: one sample through the computational graph, node by node."""
