"""Notifications (站内通知): new tasks, returns, reminders, copies — in the product, and by e-mail
when MAIL_ENABLED is set (sent only after the transaction that made them commits)."""
