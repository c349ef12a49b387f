// Placeholder: the channels are written in the alerting issue.
namespace boxmon::alerting {}
