// The web chat page (web/chat.html), embedded into the library at build time by
// cmake/WeftEmbed.cmake. Static storage; any thread.
#pragma once

#include <string_view>

namespace weft::serve {

std::string_view web_chat_html();

}  // namespace weft::serve
