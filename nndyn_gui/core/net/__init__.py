"""The network's rule in one place (numpy): block, head, activation and the bound."""
