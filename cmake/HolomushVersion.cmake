# The version string every binary reports: the project version plus the git commit when known.
# Builds without .git (the container build) pass the commit as -DHOLOMUSH_GIT_COMMIT=<sha>.
set(HOLOMUSH_VERSION "${PROJECT_VERSION}")
set(commit "${HOLOMUSH_GIT_COMMIT}")
if(commit STREQUAL "")
  find_package(Git QUIET)
  if(GIT_FOUND)
    execute_process(
      COMMAND ${GIT_EXECUTABLE} rev-parse --short=12 HEAD
      WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
      OUTPUT_VARIABLE commit
      OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  endif()
endif()
if(NOT commit STREQUAL "")
  set(HOLOMUSH_VERSION "${PROJECT_VERSION}+${commit}")
endif()
