// The whuffie extension: TextMate highlighting (package.json) and a client for `whuffie lsp`.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function settings() {
  const config = vscode.workspace.getConfiguration("whuffie");
  return {
    events: config.get("events") || "",
    subjects: config.get("subjects") || "",
    subject: config.get("subject") || "",
  };
}

function activate(context) {
  const command = vscode.workspace.getConfiguration("whuffie").get("server.command") || ["whuffie", "lsp"];
  const executable = { command: command[0], args: command.slice(1), transport: TransportKind.stdio };
  client = new LanguageClient(
    "whuffie",
    "whuffie language server",
    { run: executable, debug: executable },
    {
      documentSelector: [{ scheme: "file", language: "whuffie" }, { scheme: "untitled", language: "whuffie" }],
      initializationOptions: settings(),
      synchronize: { configurationSection: "whuffie" },
    },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
