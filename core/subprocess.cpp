// Written by the alerting issue (see subprocess.hpp).
#include "core/subprocess.hpp"
