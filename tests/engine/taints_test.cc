// Placeholder: the table for server/engine/taints lands with issue 3.
#include <gtest/gtest.h>
