// Every checked-in fuzz input (fuzz/corpus/<target>/: seeds and every past
// crash) through the fuzz targets' checks, in every build: the libFuzzer
// programs need clang, these checks do not. A violated check aborts the
// test, after the file's name is printed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <string>
#include <vector>

#include "fuzz/checks.h"

namespace dsd::fuzz {
namespace {

struct Case {
  const char* name;
  const char* dir;  // under fuzz/corpus
  void (*check)(const uint8_t*, size_t);
  size_t min_files;  // the seeds checked in at least
};

const Case kCases[] = {
    {"Request", "request", &CheckServiceRequest, 10},
    {"K8sLoad", "k8s_load", &CheckK8sLoad, 10},
    {"KubeList", "kube_list", &CheckKubeListPage, 10},
    {"KubeWatch", "kube_watch", &CheckKubeWatchLines, 10},
    {"Extender", "extender", &CheckExtenderFilter, 10},
};

// ctest lists cases by name, not as bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class CorpusReplayTest : public ::testing::TestWithParam<Case> {};

TEST_P(CorpusReplayTest, EveryInputPassesTheChecks) {
  QuietProtobufLogs();
  const std::filesystem::path dir =
      std::filesystem::path(DSD_FUZZ_CORPUS_DIR) / GetParam().dir;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), GetParam().min_files) << dir;
  for (const std::filesystem::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)),
                            std::istreambuf_iterator<char>());
    std::fprintf(stderr, "replaying %s\n", file.c_str());
    GetParam().check(reinterpret_cast<const uint8_t*>(bytes.data()),
                     bytes.size());
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, CorpusReplayTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& p) {
                           return std::string(p.param.name);
                         });

}  // namespace
}  // namespace dsd::fuzz
