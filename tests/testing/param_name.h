// The name of a table row, for INSTANTIATE_TEST_SUITE_P: every table in the
// tests is a struct with a `name` member (a std::string or a C string).
//
//   INSTANTIATE_TEST_SUITE_P(Upstream, DecideTest, ValuesIn(Rows()),
//                            dsd::testing::ParamName<Row>);
#ifndef DSD_TESTS_TESTING_PARAM_NAME_H_
#define DSD_TESTS_TESTING_PARAM_NAME_H_

#include <string>

#include "gtest/gtest.h"

namespace dsd::testing {

template <typename Row>
std::string ParamName(const ::testing::TestParamInfo<Row>& info) {
  return std::string(info.param.name);
}

}  // namespace dsd::testing

#endif  // DSD_TESTS_TESTING_PARAM_NAME_H_
