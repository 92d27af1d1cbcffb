// Placeholder: the table for server/engine/k8s_names lands with issue 3.
#include <gtest/gtest.h>
