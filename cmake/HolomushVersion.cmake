# The version string every binary reports: the project version plus the git commit when known.
set(HOLOMUSH_VERSION "${PROJECT_VERSION}")
find_package(Git QUIET)
if(GIT_FOUND)
  execute_process(
    COMMAND ${GIT_EXECUTABLE} rev-parse --short=12 HEAD
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    OUTPUT_VARIABLE HOLOMUSH_GIT_COMMIT
    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(HOLOMUSH_GIT_COMMIT)
    set(HOLOMUSH_VERSION "${PROJECT_VERSION}+${HOLOMUSH_GIT_COMMIT}")
  endif()
endif()
