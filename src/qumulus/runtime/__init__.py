"""Runtime: the execution queue (claim / heartbeat / reap / complete), workers and executors."""
