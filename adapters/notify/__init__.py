"""Notifications of run outcomes (rule B7): the ``Notifier`` port by e-mail, Slack and memory,
and ``Notifications``, which routes one run's notification to the channels its workflow wants.
"""

from adapters.notify.fanout import Notifications
from adapters.notify.memory import MemoryNotifier
from adapters.notify.slack import SlackNotifier
from adapters.notify.smtp import SmtpNotifier, SmtpSettings

__all__ = ["MemoryNotifier", "Notifications", "SlackNotifier", "SmtpNotifier", "SmtpSettings"]
