// Test data kept in files (tests/<area>/testdata/), read from a directory
// CMake compiles in (never the working directory):
//
//   target_compile_definitions(x_test PRIVATE
//     DSD_TESTDATA_DIR="${CMAKE_CURRENT_SOURCE_DIR}/testdata")
//   ...
//   ReadTestFile(std::string(DSD_TESTDATA_DIR) + "/cluster.json")
#ifndef DSD_TESTS_TESTING_TEST_DATA_H_
#define DSD_TESTS_TESTING_TEST_DATA_H_

#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace dsd::testing {

// The whole file at `path`, byte for byte; a test failure naming the path
// (and "") when it cannot be read.
inline std::string ReadTestFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read test data " << path;
    return "";
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace dsd::testing

#endif  // DSD_TESTS_TESTING_TEST_DATA_H_
