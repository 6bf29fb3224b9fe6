/** The producer version written into ISF metadata (kept equal to package.json by hand). */
export const VERSION_FOR_ISF = '0.1.0';
