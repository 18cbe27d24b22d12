"""Reads a Prometheus text exposition on stdin with the Prometheus Python client's own parser and prints every
sample as JSON: {"name{label="value",...}": value}, labels sorted. The metrics test reads it."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

samples = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    for sample in family.samples:
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
        samples[f"{sample.name}{{{labels}}}"] = sample.value
json.dump(samples, sys.stdout)
