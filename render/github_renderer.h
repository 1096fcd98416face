// `check --format github`: GitHub Actions workflow commands, so findings show
// up as annotations on the pull request's diff:
//   ::error file=my_drv.c,line=98,title=refctrace double-free::message
#pragma once

#include <ostream>

#include "render/report.h"

namespace refctrace::render {

// The annotations of one input (findings and its input error, if any).
void RenderGithubInput(const InputReport& input, std::ostream& out);

// Escaping per GitHub's workflow-command syntax; exposed for tests.
std::string GithubEscapeData(std::string_view s);
std::string GithubEscapeProperty(std::string_view s);

}  // namespace refctrace::render
