namespace boxmon::store {}
