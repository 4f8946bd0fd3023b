// Core's connection settings, added to whatever database URL it is given unless the URL says
// otherwise: its name in pg_stat_activity and the timeouts that bound a vanished database.
#include <gtest/gtest.h>

#include "store/database.hpp"

namespace holomush::core {
namespace {

TEST(ConnectionSettingsTest, AUrlGainsNameAndTimeoutsAsQueryParameters) {
  EXPECT_EQ(WithConnectionSettings("postgresql://game@db/holomush", "holomush-core"),
            "postgresql://game@db/holomush?application_name=holomush-core&connect_timeout=10"
            "&tcp_user_timeout=30000");
  EXPECT_EQ(WithConnectionSettings("postgres://game@db/holomush?sslmode=require", "holomush-core"),
            "postgres://game@db/holomush?sslmode=require&application_name=holomush-core"
            "&connect_timeout=10&tcp_user_timeout=30000");
}

TEST(ConnectionSettingsTest, WhatTheUrlSetsIsKept) {
  EXPECT_EQ(WithConnectionSettings(
                "postgresql://db/h?connect_timeout=3&application_name=mine&tcp_user_timeout=5",
                "holomush-core"),
            "postgresql://db/h?connect_timeout=3&application_name=mine&tcp_user_timeout=5");
}

TEST(ConnectionSettingsTest, AKeywordStringGainsKeywords) {
  EXPECT_EQ(WithConnectionSettings("host=db dbname=holomush", "holomush-core-listener"),
            "host=db dbname=holomush application_name=holomush-core-listener connect_timeout=10 "
            "tcp_user_timeout=30000");
  EXPECT_EQ(WithConnectionSettings("", "holomush-core"),
            "application_name=holomush-core connect_timeout=10 tcp_user_timeout=30000");
}

}  // namespace
}  // namespace holomush::core
