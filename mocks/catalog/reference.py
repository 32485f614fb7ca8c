"""Who and what the scenarios are about: markets, buyers, shops, products. Pure data."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Address:
    name: str
    line1: str
    city: str
    region: str
    postal_code: str
    country: str  # ISO 3166-1 alpha-2, as the order service speaks it ("US", "GB")
    line2: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Market:
    region: str  # the order service's region code
    currency: str
    tax_rate: Decimal
    carriers: tuple[str, ...]
    utc_offset_hours: int  # where the carrier's scans are stamped
    hubs: tuple[str, ...]


US = Market("US", "USD", Decimal("0.08"), ("usps", "ups", "fedex"), -5,
            ("Memphis, TN", "Louisville, KY", "Indianapolis, IN", "Chicago, IL", "Dallas, TX"))
GB = Market("GB", "GBP", Decimal("0.20"), ("royal-mail", "dpd-uk", "evri"), 0,
            ("Daventry", "Birmingham Mail Centre", "Warrington", "Heathrow Worldwide DC", "Hinckley"))
MARKETS = {"US": US, "GB": GB}


@dataclass(frozen=True)
class Buyer:
    id: str
    market: Market
    address: Address


@dataclass(frozen=True)
class Warehouse:
    id: str
    city: str
    country: str


@dataclass(frozen=True)
class Product:
    id: str
    sku_id: str
    name: str
    sku_name: str
    price: Decimal
    weight_g: int
    # Tags the after-sales rules read: FINAL_SALE, PERSONALISED, PERISHABLE, HYGIENE_SEALED,
    # PRE_OWNED, REQUIRES_AUTHENTICATION, OVERSIZE, HIGH_VALUE.
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Shop:
    id: str
    name: str
    market: Market
    warehouses: tuple[Warehouse, ...]
    products: dict[str, Product] = field(default_factory=dict)
    auto_approve_returns: bool = True
    auto_approve_cancel_hours: int = 0

    def product(self, role: str) -> Product:
        return self.products[role]


def _p(shop: str, n: int, name: str, sku: str, price: str, grams: int, *tags: str) -> Product:
    return Product(f"prod-{shop}-{n}", f"sku-{shop}-{n}", name, sku, Decimal(price), grams, frozenset(tags))


def _addr(name: str, line1: str, city: str, region: str, postal: str, country: str, phone: str) -> Address:
    return Address(name=name, line1=line1, city=city, region=region, postal_code=postal, country=country,
                   phone=phone)


ALICE = Buyer("buyer-us-alice", US, _addr("Alice Johnson", "123 Maple Street", "Springfield", "IL",
                                          "62704", "US", "+1 217 555 0142"))
BOB = Buyer("buyer-us-bob", US, _addr("Bob Martinez", "88 Congress Avenue", "Austin", "TX", "78701",
                                      "US", "+1 512 555 0199"))
OLIVIA = Buyer("buyer-uk-olivia", GB, _addr("Olivia Smith", "10 Baker Lane", "Manchester",
                                            "Greater Manchester", "M1 1AE", "GB", "+44 161 496 0321"))
HARRY = Buyer("buyer-uk-harry", GB, _addr("Harry Patel", "4 Clifton Road", "Bristol", "Bristol",
                                          "BS8 1AB", "GB", "+44 117 496 0777"))
DEMO_BUYERS = (ALICE, BOB, OLIVIA, HARRY)

THREADLINE = Shop(
    "shop-us-threadline", "Threadline Apparel", US,
    (Warehouse("wh-us-reno", "Reno, NV", "US"), Warehouse("wh-us-columbus", "Columbus, OH", "US")),
    {
        "apparel": _p("threadline", 1, "Everyday Cotton Tee", "Heather Grey / M", "18.00", 220),
        "shoes": _p("threadline", 2, "Trail Runner Sneakers", "Black / US 9", "89.99", 900),
        "jacket": _p("threadline", 3, "Packable Rain Jacket", "Navy / L", "64.50", 450),
        "clearance": _p("threadline", 4, "Clearance Beanie", "Mustard", "9.99", 120, "FINAL_SALE"),
        "backorder": _p("threadline", 5, "Wool Overshirt", "Olive / M", "120.00", 700),
        "hygiene": _p("threadline", 6, "Seamless Underwear 3-Pack", "Black / M", "24.00", 150,
                      "HYGIENE_SEALED"),
    },
    auto_approve_returns=True,
)
LUXE_VAULT = Shop(
    "shop-us-luxe-vault", "Luxe Vault Pre-Owned", US,
    (Warehouse("wh-us-nyc", "New York, NY", "US"),),
    {
        "luxury_bag": _p("luxe", 1, "Pre-Owned Leather Tote", "Monogram / Brown", "1450.00", 1100,
                         "PRE_OWNED", "REQUIRES_AUTHENTICATION", "HIGH_VALUE"),
        "sneakers": _p("luxe", 2, "Pre-Owned Retro High Sneakers", "Chicago / US 10", "780.00", 1300,
                       "PRE_OWNED", "REQUIRES_AUTHENTICATION", "HIGH_VALUE"),
        "watch": _p("luxe", 3, "Chronograph Watch", "Steel / 40mm", "2150.00", 400, "HIGH_VALUE"),
    },
    auto_approve_returns=False,
)
HEARTH = Shop(
    "shop-us-hearth-home", "Hearth & Home", US,
    (Warehouse("wh-us-dallas", "Dallas, TX", "US"), Warehouse("wh-us-atlanta", "Atlanta, GA", "US")),
    {
        "armchair": _p("hearth", 1, "Mid-Century Armchair", "Walnut / Teal", "349.00", 21000, "OVERSIZE"),
        "lamp": _p("hearth", 2, "Brass Table Lamp", "Brass", "59.00", 1800),
        "cushion": _p("hearth", 3, "Linen Cushion Cover", "Sand", "22.00", 300),
        "rug": _p("hearth", 4, "Hand-Woven Rug", "5x8 ft / Indigo", "289.00", 9000),
        "espresso": _p("hearth", 5, "Espresso Machine", "Stainless", "449.00", 7000, "HIGH_VALUE"),
    },
)
PRINTWORKS = Shop(
    "shop-us-printworks", "Printworks Custom", US,
    (Warehouse("wh-us-portland", "Portland, OR", "US"),),
    {
        "custom_hoodie": _p("print", 1, "Custom Embroidered Hoodie", "Forest / L", "58.00", 650,
                            "PERSONALISED"),
        "poster": _p("print", 2, "Art Print", "A2 / Matte", "30.00", 400),
        "mug": _p("print", 3, "Stoneware Mug", "Speckled White", "16.00", 450),
        "tote": _p("print", 4, "Canvas Tote Bag", "Natural", "22.00", 250),
    },
)
NORTHERN = Shop(
    "shop-uk-northern-threads", "Northern Threads", GB,
    (Warehouse("wh-uk-leeds", "Leeds", "GB"), Warehouse("wh-uk-milton-keynes", "Milton Keynes", "GB")),
    {
        "apparel": _p("northern", 1, "Merino Crew Jumper", "Oatmeal / M", "65.00", 400),
        "shoes": _p("northern", 2, "Leather Chelsea Boots", "Brown / UK 8", "120.00", 1400),
        "dress": _p("northern", 3, "Linen Midi Dress", "Sage / 12", "78.00", 380),
        "scarf": _p("northern", 4, "Lambswool Scarf", "Tartan", "32.00", 200),
        "custom_jumper": _p("northern", 5, "Monogrammed Jumper", "Navy / L", "85.00", 450, "PERSONALISED"),
        "backorder": _p("northern", 6, "Waxed Field Jacket", "Olive / M", "195.00", 1500),
        "hygiene": _p("northern", 7, "Swimsuit", "Black / 10", "45.00", 180, "HYGIENE_SEALED"),
    },
)
TEA_CO = Shop(
    "shop-uk-kettle-tea", "Kettle & Leaf Tea Co.", GB,
    (Warehouse("wh-uk-york", "York", "GB"),),
    {
        "tea": _p("tea", 1, "Breakfast Blend Loose Leaf", "250 g", "12.50", 300, "PERISHABLE"),
        "teapot": _p("tea", 2, "Cast Iron Teapot", "Black / 800 ml", "48.00", 1600),
        "hamper": _p("tea", 3, "Afternoon Tea Hamper", "Large", "95.00", 4000, "PERISHABLE", "OVERSIZE"),
        "infuser": _p("tea", 4, "Stainless Tea Infuser", "Large", "8.50", 60),
        "cups": _p("tea", 5, "Porcelain Cup Set", "Set of 4", "36.00", 1200),
    },
)
GADGET_IMPORTS = Shop(
    "shop-uk-gadget-imports", "Gadget Imports", GB,
    (Warehouse("wh-cn-shenzhen", "Shenzhen", "CN"),),
    {
        "earbuds": _p("gadget", 1, "Wireless Earbuds", "White", "39.99", 200),
        "phone_case": _p("gadget", 2, "Rugged Phone Case", "Black", "14.99", 120),
        "drone": _p("gadget", 3, "Mini Camera Drone", "Grey", "129.00", 900, "HIGH_VALUE"),
        "charger": _p("gadget", 4, "65W USB-C Charger", "White", "24.99", 150),
    },
)
MAYFAIR_RESERVE = Shop(
    "shop-uk-mayfair-reserve", "Mayfair Reserve Pre-Owned", GB,
    (Warehouse("wh-uk-london", "London", "GB"),),
    {
        "luxury_bag": _p("mayfair", 1, "Pre-Owned Quilted Shoulder Bag", "Black / Gold hardware", "1850.00",
                         900, "PRE_OWNED", "REQUIRES_AUTHENTICATION", "HIGH_VALUE"),
        "sneakers": _p("mayfair", 2, "Pre-Owned Low-Top Trainers", "White / UK 9", "540.00", 1200,
                       "PRE_OWNED", "REQUIRES_AUTHENTICATION", "HIGH_VALUE"),
        "watch": _p("mayfair", 3, "Automatic Dress Watch", "Rose gold / 38mm", "2400.00", 350, "HIGH_VALUE"),
    },
    auto_approve_returns=False,
)
DEMO_SHOPS = (THREADLINE, LUXE_VAULT, HEARTH, PRINTWORKS, NORTHERN, TEA_CO, GADGET_IMPORTS, MAYFAIR_RESERVE)
