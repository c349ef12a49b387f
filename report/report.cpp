namespace boxmon::report {}
