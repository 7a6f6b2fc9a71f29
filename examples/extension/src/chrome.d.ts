// The one chrome.* name the extension's own code touches (the transports bring their own types).
declare const chrome: { runtime: { id: string } };
