#!/usr/bin/python3
"""One code-generation workflow with kafka-python: started, four stages, completed.

Usage: produce_kafka_python.py BOOTSTRAP WORKFLOW_ID
"""
import json
import sys
import uuid
from datetime import datetime, timedelta, timezone

from kafka import KafkaProducer


def main():
    bootstrap, workflow_id = sys.argv[1], sys.argv[2]
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all",
        key_serializer=str.encode,
        value_serializer=lambda event: json.dumps(event).encode())
    start = datetime.now(timezone.utc) - timedelta(minutes=5)
    sent = []

    def send(topic, event_type, second, **fields):
        at = start + timedelta(seconds=second)
        event = {
            "event_type": event_type,
            "event_id": str(uuid.uuid4()),
            "correlation_id": workflow_id,
            "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "payload": {"workflow_id": workflow_id, **fields},
        }
        sent.append(producer.send(f"dev.omninode-bridge.codegen.{topic}.v1",
                                  key=workflow_id, value=event))

    send("generation-started", "CODEGEN_STARTED", 0,
         node_type="reducer", domain="data")
    # the wire format of the original Python services: stage durations in seconds
    stages = [("prompt_parsing", 0.8), ("intelligence_gathering", 2.1),
              ("contract_building", 1.6), ("code_generation", 9.5)]
    for number, (name, seconds) in enumerate(stages, start=1):
        send("stage-completed", "CODEGEN_STAGE_COMPLETED", number,
             stage_name=name, stage_number=number, duration_seconds=seconds,
             success=True)
    send("generation-completed", "CODEGEN_COMPLETED", 5,
         node_type="reducer", domain="data", total_duration_seconds=14.0,
         quality_score=0.55, total_tokens=2500, total_cost_usd=0.03)

    producer.flush(timeout=30)
    for future in sent:
        future.get(timeout=30)  # raises if a message was not delivered
    producer.close()


if __name__ == "__main__":
    main()
