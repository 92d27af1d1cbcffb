// Placeholder: the table for server/engine/decide lands with issue 3.
#include <gtest/gtest.h>
