"""Client tests: real Neovim, real VS Code (code-server + Chromium), ACP clients under Node."""
