// The span scanner on valid JSON: members and elements as written, keys
// matched in any case with the last duplicate winning (Go's decoder).
#include "client/extender/json_spans.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dsd::extender {
namespace {

TEST(ExtenderJsonSpansTest, ObjectMembersKeepValuesAsWritten) {
  const std::string text =
      " { \"a\" : [1, {\"x\": \"]}\\\"\"}] , \"b\":\"s,}\", \"c\" :null,"
      "\"d\":-1.5e3 } ";
  const std::vector<JsonMember> members = ObjectMembers(text);
  ASSERT_EQ(members.size(), 4u);
  EXPECT_EQ(members[0].key, "a");
  EXPECT_EQ(members[0].value, "[1, {\"x\": \"]}\\\"\"}]");
  EXPECT_EQ(members[1].value, "\"s,}\"");
  EXPECT_EQ(members[2].value, "null");
  EXPECT_EQ(members[3].value, "-1.5e3");
}

TEST(ExtenderJsonSpansTest, ArrayElements) {
  const std::vector<std::string_view> elements =
      ArrayElements(" [ {\"a\":[]} ,\n\"[\" , 3,true ] ");
  ASSERT_EQ(elements.size(), 4u);
  EXPECT_EQ(elements[0], "{\"a\":[]}");
  EXPECT_EQ(elements[1], "\"[\"");
  EXPECT_EQ(elements[2], "3");
  EXPECT_EQ(elements[3], "true");
  EXPECT_TRUE(ArrayElements("[]").empty());
  EXPECT_TRUE(ArrayElements("{}").empty());
}

// A string ends at the first quote after an even run of backslashes.
TEST(ExtenderJsonSpansTest, StringsEndAtTheirUnescapedQuote) {
  struct Row {
    const char* element;  // a JSON string literal
  };
  for (const Row& row :
       {Row{R"("")"}, Row{R"("\\")"}, Row{R"("\"")"}, Row{R"("a\\\"b")"},
        Row{R"("\\\\")"}, Row{R"("],\"[")"}, Row{R"("x\u0022y")"}}) {
    SCOPED_TRACE(row.element);
    const std::string text =
        std::string("[") + row.element + ", " + row.element + "]";
    const std::vector<std::string_view> elements = ArrayElements(text);
    ASSERT_EQ(elements.size(), 2u);
    EXPECT_EQ(elements[0], row.element);
    EXPECT_EQ(elements[1], row.element);
  }
}

TEST(ExtenderJsonSpansTest, FindMemberIgnoringCaseTakesTheLast) {
  const std::vector<JsonMember> members =
      ObjectMembers(R"({"Pod":1,"nodes":2,"pod":3,"NodeNames":4})");
  struct Row {
    const char* key;
    const char* want;
  };
  for (const Row& row : {Row{"Pod", "3"}, Row{"POD", "3"}, Row{"Nodes", "2"},
                         Row{"nodenames", "4"}, Row{"Error", ""}}) {
    SCOPED_TRACE(row.key);
    EXPECT_EQ(FindMemberIgnoringCase(members, row.key), row.want);
  }
}

}  // namespace
}  // namespace dsd::extender
