"""Loads the served operations' shapes from botocore's `ssm` service model.

Owns the single place that reads the model; constraints are never retyped elsewhere. Must not
validate or encode anything itself.
"""

from __future__ import annotations

import functools
from typing import Any

import botocore.loaders
import botocore.model

SERVICE = "ssm"
TARGET_PREFIX = "AmazonSSM"
OPERATIONS = (
    "PutComplianceItems",
    "ListComplianceItems",
    "ListComplianceSummaries",
    "ListResourceComplianceSummaries",
)


@functools.cache
def service_model() -> botocore.model.ServiceModel:
    raw = botocore.loaders.Loader().load_service_model(SERVICE, "service-2")
    return botocore.model.ServiceModel(raw, service_name=SERVICE)


def input_shape(operation: str) -> botocore.model.StructureShape:
    shape = service_model().operation_model(operation).input_shape
    assert shape is not None, operation
    return shape


def shape(name: str) -> botocore.model.Shape:
    return service_model().shape_for(name)


def string_constraints(name: str) -> dict[str, Any]:
    """min/max/pattern/enum of a named string shape, e.g. `ComplianceResourceId`."""
    s = shape(name)
    out: dict[str, Any] = {k: v for k, v in s.metadata.items() if k in ("min", "max", "pattern")}
    if s.enum:
        out["enum"] = list(s.enum)
    return out
