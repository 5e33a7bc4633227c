"""Moved to workflows/playbooks/features.py (account features are what playbook conditions
read). This re-export keeps bot/cli.py's and commands/context.py's imports working until the
lead's #12 finish points them at ``workflows.playbooks``."""

from workflows.playbooks.features import AccountFeatures, FeatureSource

__all__ = ["AccountFeatures", "FeatureSource"]
