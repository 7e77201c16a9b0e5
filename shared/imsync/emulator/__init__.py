"""Local Huawei Cloud IMS/IAM emulator: real HTTP, real SDK signatures, copy jobs over time, faults."""

from .clock import ManualClock, ScaledClock
from .core import DEFAULT_REGIONS, Emulator
from .faults import Fault
from .model import Account, ImageRecord, Job, RequestRecord
from .readings import PROFILES, Readings, profile
from .region import Region
from .seed import load_seed

__all__ = [
    "DEFAULT_REGIONS",
    "PROFILES",
    "Account",
    "Emulator",
    "Fault",
    "ImageRecord",
    "Job",
    "ManualClock",
    "Readings",
    "Region",
    "RequestRecord",
    "ScaledClock",
    "load_seed",
    "profile",
]
