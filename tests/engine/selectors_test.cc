// Placeholder: the table for server/engine/selectors lands with issue 3.
#include <gtest/gtest.h>
