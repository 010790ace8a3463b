"""The MQTT ingest: receive readings, validate them, store them in batches, ack after commit."""
