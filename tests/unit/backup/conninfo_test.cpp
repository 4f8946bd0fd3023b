#include "conninfo.hpp"

#include <gtest/gtest.h>

namespace holomush::backup {
namespace {

TEST(ConnectionTest, UrlPasswordMovesToTheEnvironment) {
  auto conn = ParseConnection("postgresql://app:p%40ss%20w%3Ard@db.example:6543/holomush");
  ASSERT_TRUE(conn.ok()) << conn.error().message;
  EXPECT_EQ(conn->password, "p@ss w:rd");
  EXPECT_EQ(conn->conninfo.find("p@ss"), std::string::npos);
  EXPECT_EQ(conn->conninfo.find("password"), std::string::npos);
  EXPECT_NE(conn->conninfo.find("host='db.example'"), std::string::npos);
  EXPECT_NE(conn->conninfo.find("dbname='holomush'"), std::string::npos);
  EXPECT_EQ(conn->description, "app@db.example:6543/holomush");
  EXPECT_EQ(conn->ChildEnvironment(), (std::vector<std::string>{"PGPASSWORD=p@ss w:rd"}));
}

TEST(ConnectionTest, KeywordStringsAreQuotedAgain) {
  auto conn =
      ParseConnection("host=localhost dbname='my db' user=o\\'neil password=x sslmode=require");
  ASSERT_TRUE(conn.ok()) << conn.error().message;
  EXPECT_EQ(conn->password, "x");
  EXPECT_NE(conn->conninfo.find("dbname='my db'"), std::string::npos);
  EXPECT_NE(conn->conninfo.find("user='o\\'neil'"), std::string::npos);
  EXPECT_NE(conn->conninfo.find("sslmode='require'"), std::string::npos);
}

TEST(ConnectionTest, NoPasswordMeansNoEnvironment) {
  auto conn = ParseConnection("postgresql://holomush@127.0.0.1:5432/holomush");
  ASSERT_TRUE(conn.ok());
  EXPECT_FALSE(conn->password.has_value());
  EXPECT_TRUE(conn->ChildEnvironment().empty());
}

TEST(ConnectionTest, InvalidUrlIsRefusedWithoutItsPassword) {
  auto conn = ParseConnection("postgresql://app:hunter2@[broken");
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.error().kind, common::ErrorKind::kInvalid);
  EXPECT_EQ(conn.error().message.find("hunter2"), std::string::npos) << conn.error().message;
}

TEST(RedactTest, HidesPasswordsInUrlsKeywordsAndKnownSecrets) {
  EXPECT_EQ(Redact("postgres://u:secret@h/db"), "postgres://u:REDACTED@h/db");
  EXPECT_EQ(Redact("host=h password='a b' user=u"), "host=h password=REDACTED user=u");
  EXPECT_EQ(Redact("PASSWORD = plain"), "password=REDACTED");
  EXPECT_EQ(Redact("failed for s3cr3t-value", std::string("s3cr3t-value")), "failed for REDACTED");
  EXPECT_EQ(Redact("postgres://u@h/db"), "postgres://u@h/db");
}

}  // namespace
}  // namespace holomush::backup
