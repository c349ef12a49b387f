// Placeholder until the alerting issue writes redaction.
#include "core/redact.hpp"
