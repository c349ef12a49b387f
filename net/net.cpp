// Placeholder until the alerting issue: the libcurl wrapper lives here.
namespace boxmon::net {}
