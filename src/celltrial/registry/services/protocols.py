"""The protocol of a registry study: a shipped one by name, or the YAML kept with it."""

from __future__ import annotations

from functools import lru_cache

from celltrial.protocol import Protocol, load_protocol, parse_protocol
from celltrial.registry.models import Study


def study_protocol(study: Study) -> Protocol | None:
    if study.protocol_yaml:
        return _parsed(study.protocol_yaml)
    return _shipped(study.protocol) if study.protocol else None


@lru_cache(maxsize=16)
def _parsed(text: str) -> Protocol:
    return parse_protocol(text)


@lru_cache(maxsize=16)
def _shipped(name: str) -> Protocol:
    return load_protocol(name)
