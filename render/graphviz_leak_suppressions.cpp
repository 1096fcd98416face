// LeakSanitizer suppressions for executables that render SVG or PNG (the
// tool and the unit tests link this file; no library does, so nothing
// inherits suppressions without asking). libgvc's HTML-label parser and the
// font stack it loads (fontconfig, pango, cairo, glib) keep caches and leak
// small blocks per layout that refctrace cannot free. Leaks in refctrace's
// own code, or in libcgraph graphs it builds, are still reported. Without
// LeakSanitizer these two functions are never called.

extern "C" const char* __lsan_default_suppressions() {
  return "leak:libgvc.so\n"
         "leak:libgvplugin_\n"
         "leak:libfontconfig.so\n"
         "leak:libpango\n"
         "leak:libcairo.so\n"
         "leak:libglib-2.0.so\n";
}

// The list of suppressions used would go to standard error, which the CLI
// tests compare.
extern "C" const char* __lsan_default_options() {
  return "print_suppressions=0";
}
