"""Fictional vocabularies for the sample. Every organisation and community here is invented (示例 / 虚构)."""
from __future__ import annotations

SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "罗",
            "高", "林", "谭", "冉", "向", "秦", "蒲", "邓", "彭", "曾", "萧", "唐"]
SURNAMES_PINYIN = {"王": "wang", "李": "li", "张": "zhang", "刘": "liu", "陈": "chen", "杨": "yang", "黄": "huang",
                   "赵": "zhao", "吴": "wu", "周": "zhou", "徐": "xu", "孙": "sun", "马": "ma", "朱": "zhu", "胡": "hu",
                   "郭": "guo", "何": "he", "罗": "luo", "高": "gao", "林": "lin", "谭": "tan", "冉": "ran",
                   "向": "xiang", "秦": "qin", "蒲": "pu", "邓": "deng", "彭": "peng", "曾": "zeng", "萧": "xiao",
                   "唐": "tang"}
GIVEN = [("晓明", "xiaoming"), ("雨涵", "yuhan"), ("子轩", "zixuan"), ("思远", "siyuan"), ("嘉怡", "jiayi"),
         ("浩然", "haoran"), ("欣怡", "xinyi"), ("宇航", "yuhang"), ("若曦", "ruoxi"), ("俊杰", "junjie"),
         ("梓涵", "zihan"), ("一鸣", "yiming"), ("诗琪", "shiqi"), ("天佑", "tianyou"), ("明轩", "mingxuan"),
         ("雅婷", "yating"), ("博文", "bowen"), ("可馨", "kexin"), ("志强", "zhiqiang"), ("丽娟", "lijuan"),
         ("建国", "jianguo"), ("海涛", "haitao"), ("静怡", "jingyi"), ("文博", "wenbo"), ("晨曦", "chenxi")]

# (name, kind, chongqing_local, e-mail domain) — all fictional, on reserved .example domains
ORGANISATIONS = [
    ("渝车智行科技有限公司（虚构）", "company", True, "yuche.example.com"),
    ("山城鸿途软件有限公司（虚构）", "company", True, "hongtu.example.com"),
    ("两江芯联电子有限公司（虚构）", "company", True, "xinlian.example.com"),
    ("嘉陵数智科技有限公司（虚构）", "company", True, "jialing.example.com"),
    ("北方示例汽车软件有限公司（虚构）", "company", False, "beifang-auto.example.com"),
    ("东海示例终端有限公司（虚构）", "company", False, "donghai.example.com"),
    ("山城理工大学（虚构）", "university", True, "sctu.edu.example"),
    ("巴渝师范学院（虚构）", "university", True, "byn.edu.example"),
    ("江南示例大学（虚构）", "university", False, "jnu.edu.example"),
    ("示例开源基金会（虚构）", "foundation", False, "oss-foundation.example.org"),
    ("重庆示例信创中心（虚构）", "government", True, "xinchuang.example.gov"),
]
FREE_MAIL = ["qq.com", "163.com", "126.com", "foxmail.com", "gmail.com", "outlook.com", "aliyun.com"]

# (slug, name, focus, shape, platform weights, applicant index) for the 12 demo communities
COMMUNITIES = [
    ("yuche-os", "渝车智控 OS（示例）", "automotive", "growing", 0),
    ("shancheng-cockpit", "山城智能座舱开源（示例）", "automotive", "company", 0),
    ("liangjiang-adas", "两江辅助驾驶工具链（示例）", "automotive", "steady", 4),
    ("jialing-middleware", "嘉陵车载中间件（示例）", "automotive", "declining", 3),
    ("wudu-harmony-devices", "雾都鸿蒙设备社区（示例）", "smart-terminal", "growing", 1),
    ("hongtu-board", "鸿途开发板 BSP（示例）", "smart-terminal", "steady", 1),
    ("xinlian-iot", "芯联物联终端（示例）", "smart-terminal", "seasonal", 2),
    ("donghai-watch", "东海穿戴应用框架（示例）", "smart-terminal", "declining", 5),
    ("bayu-edu", "巴渝开源教育（示例）", "education", "seasonal", 7),
    ("sctu-lab", "山城理工开源实验室（示例）", "education", "growing", 6),
    ("tiny-compiler-course", "小型编译器课程（示例）", "education", "single", 6),
    ("cq-gov-data", "重庆政务开放数据工具（示例）", "other", "steady", 10),
]
REPO_WORDS = ["core", "kernel", "sdk", "docs", "drivers", "hal", "ui", "toolchain", "tests", "samples", "bsp",
              "framework", "runtime", "apps", "infra", "ci", "examples", "bridge", "protocol", "sim"]

DISTRICTS = ["渝北区", "两江新区", "沙坪坝区", "九龙坡区", "南岸区", "江北区", "渝中区", "巴南区", "北碚区",
             "大渡口区", "重庆高新区", "璧山区", "永川区", "江津区", "合川区"]
ENTERPRISE_WORDS = ["渝鸿", "山城", "两江", "嘉陵", "巴渝", "雾都", "朝天门", "缙云", "歌乐", "南山", "长江", "洪崖",
                    "磁器口", "解放碑", "大足"]
ENTERPRISE_SUFFIX = ["智能科技有限公司", "软件有限公司", "电子科技有限公司", "信息技术有限公司", "物联网科技有限公司"]
PRODUCT_NOUNS = {
    "开发板": ["鸿途 RK 开发板", "芯联 Hi 开发板", "教学开发板", "车规开发板"],
    "模组": ["Wi-Fi 模组", "蓝牙 Mesh 模组", "NB-IoT 模组", "星闪模组"],
    "设备": ["智能门锁", "车载中控屏", "教育平板", "工业网关", "智慧路灯控制器", "充电桩终端"],
    "发行版": ["行业发行版", "车机发行版", "教育发行版"],
    "软件": ["设备管理中间件", "座舱应用框架", "课堂互动应用"],
}
