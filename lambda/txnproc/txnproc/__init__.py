"""txnproc: the transaction processor of replgen's disaster-recovery topology and its
regional failover watchdog."""
