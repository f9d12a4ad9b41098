"""Services of gateways (writes): reading a gateway's log store, mapping its rows, syncing them into ingest."""
