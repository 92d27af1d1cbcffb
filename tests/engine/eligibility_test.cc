// Placeholder: the table for server/engine/eligibility lands with issue 3.
#include <gtest/gtest.h>
