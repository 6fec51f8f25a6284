"""The `kg` command's sub-commands, one module an area; `kg.cli` registers them."""
