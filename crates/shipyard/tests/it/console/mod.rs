//! The web console: the everyday loop without JavaScript (plain HTTP, cookies and form tokens)
//! and in a real browser (headless Chromium over WebDriver), and its walls: escaped logs,
//! forged and cross-site forms refused.

mod browser;
mod forms;
mod walls;
