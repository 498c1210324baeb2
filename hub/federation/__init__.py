"""Federation both ways: the hub as an Apollo Federation 2 subgraph, and agencies' subgraphs
joined into the citizen as connectors."""
