namespace boxmon::alerting {}
