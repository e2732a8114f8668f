/** The tools every Atelier chat model may call (operators may declare more): their names on the wire. */
export const BUILT_IN_TOOLS = ["generate_image", "edit_image", "generate_video", "web_search"] as const;

export type BuiltInTool = (typeof BUILT_IN_TOOLS)[number];
