"""Commands of gateways."""
