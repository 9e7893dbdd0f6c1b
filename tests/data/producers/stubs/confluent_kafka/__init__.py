"""A stand-in for confluent-kafka's Producer (tests/test_schemas.c runs the
README's Python examples with it first in PYTHONPATH): records each message
as a line {"topic", "key", "value"} in the file $RED_STUB_SENT instead of
sending it, and reports it delivered on poll() and flush().
"""
import json
import os


class KafkaException(Exception):
    pass


class _Message:
    def __init__(self, topic, key, value):
        self._topic, self._key, self._value = topic, key, value

    def topic(self):
        return self._topic

    def key(self):
        return self._key

    def value(self):
        return self._value

    def partition(self):
        return 0

    def offset(self):
        return 0

    def error(self):
        return None


def _text(b):
    if b is None or isinstance(b, str):
        return b
    return bytes(b).decode("utf-8", errors="replace")


class Producer:
    def __init__(self, config=None, **kwargs):
        config = dict(config or {}, **kwargs)
        if "bootstrap.servers" not in config:
            raise KafkaException("bootstrap.servers is not set")
        self._pending = []

    def produce(self, topic, value=None, key=None, partition=-1,
                on_delivery=None, callback=None, timestamp=0, headers=None):
        if not isinstance(topic, str):
            raise TypeError("topic must be a str")
        for name, v in (("value", value), ("key", key)):
            if v is not None and not isinstance(v, (str, bytes, bytearray, memoryview)):
                raise TypeError(f"{name} must be str or bytes, not {type(v).__name__}")
        rec = {"topic": topic, "key": _text(key), "value": _text(value)}
        with open(os.environ["RED_STUB_SENT"], "a", encoding="utf-8") as out:
            out.write(json.dumps(rec) + "\n")
        self._pending.append((on_delivery or callback, _Message(topic, key, value)))

    def poll(self, timeout=None):
        done, self._pending = self._pending, []
        for cb, msg in done:
            if cb:
                cb(None, msg)
        return len(done)

    def flush(self, timeout=None):
        self.poll(0)
        return 0

    def __len__(self):
        return len(self._pending)
