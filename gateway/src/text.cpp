#include "text.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace holomush::gateway {

std::string CleanLine(std::string_view raw) {
  std::string kept;
  kept.reserve(raw.size());
  for (const char ch : raw) {
    const auto b = static_cast<uint8_t>(ch);
    if (b == '\t') {
      kept.push_back(' ');
    } else if (b >= 0x20 && b != 0x7F) {
      kept.push_back(ch);
    }
  }
  std::string out = SanitizeUtf8(kept);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

namespace {

// Appends `line` (no \n in it) to `out`, wrapped to `width` characters.
void WrapLine(std::string_view line, size_t width, std::string& out) {
  if (common::CountUtf8Characters(line) <= width) {
    out.append(line);
    return;
  }
  size_t column = 0;
  size_t i = 0;
  // The line's indentation stays; spaces between words are kept only when no break falls
  // between them.
  while (i < line.size() && line[i] == ' ' && column < width) {
    out.push_back(' ');
    ++column;
    ++i;
  }
  while (i < line.size()) {
    const size_t gap_start = i;
    while (i < line.size() && line[i] == ' ') ++i;
    const std::string_view gap = line.substr(gap_start, i - gap_start);
    const size_t word_start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    std::string_view word = line.substr(word_start, i - word_start);
    if (word.empty()) break;  // trailing spaces
    size_t chars = common::CountUtf8Characters(word);
    if (column > 0 && column + gap.size() + chars <= width) {
      out.append(gap);
      column += gap.size();
    } else if (column > 0) {
      out.push_back('\n');
      column = 0;
    }
    // A word longer than a whole line is cut into lines of `width` characters.
    while (chars > width - column) {
      size_t cut = 0;
      for (size_t taken = 0; cut < word.size(); ++cut) {
        if (common::StartsUtf8Character(word[cut]) && taken++ == width - column) break;
      }
      out.append(word.substr(0, cut));
      out.push_back('\n');
      word.remove_prefix(cut);
      chars -= width - column;
      column = 0;
    }
    out.append(word);
    column += chars;
  }
}

// Appends `text` to `out`, each of its lines wrapped to `width` characters.
void WrapInto(std::string_view text, size_t width, std::string& out) {
  while (true) {
    const size_t end = text.find('\n');
    WrapLine(text.substr(0, end), width, out);
    if (end == std::string_view::npos) break;
    out.push_back('\n');
    text.remove_prefix(end + 1);
  }
}

}  // namespace

std::string WrapLines(std::string_view text, size_t width) {
  if (width < kMinWrapWidth) return std::string(text);
  std::string out;
  out.reserve(text.size() + text.size() / width + 1);
  WrapInto(text, width, out);
  return out;
}

void AppendTelnetText(std::string& out, std::string_view text, size_t wrap_width) {
  if (wrap_width >= kMinWrapWidth) {
    // Wrapped into a buffer each thread keeps, so a steady stream of text allocates nothing.
    thread_local std::string wrapped;
    wrapped.clear();
    WrapInto(text, wrap_width, wrapped);
    text = wrapped;
  }
  const size_t start = out.size();
  out.reserve(out.size() + text.size() + 2);
  size_t run = 0;  // start of the plain bytes not yet copied: they go in one append
  for (size_t i = 0; i < text.size(); ++i) {
    const auto b = static_cast<uint8_t>(text[i]);
    if ((b >= 0x20 && b != 0x7F && b != 0xFF) || b == '\t') continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    if (b == '\n') {
      out += "\r\n";
    } else if (b == 0xFF) {
      // Never in valid UTF-8; doubled all the same, so no text can end up as a telnet command.
      out += "\xFF\xFF";
    }  // other controls and DEL are dropped
  }
  out.append(text.data() + run, text.size() - run);
  if (out.size() - start < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
}

std::string ToTelnetText(std::string_view text, size_t wrap_width) {
  std::string out;
  out.reserve(text.size() + 16);
  AppendTelnetText(out, text, wrap_width);
  return out;
}

}  // namespace holomush::gateway
