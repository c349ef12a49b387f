// Placeholder until the alerting issue writes log tails.
#include "core/logtail.hpp"
