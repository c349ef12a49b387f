namespace boxmon::rules {}
