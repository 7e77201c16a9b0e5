"""imsync: keep Huawei Cloud IMS private images replicated across regions and shared with other accounts."""

__version__ = "0.1.0"
